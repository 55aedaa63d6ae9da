/**
 * Incremental HTTP/1.1 body decoding: Content-Length, chunked (RFC 9112 §7.1,
 * extensions skipped, trailers read and dropped) and close-delimited. Fed any
 * split of the bytes; hands out slices of the input (no copies).
 */
import { HeadError, type Framing } from './head.js';

/** Chunk-size lines and trailer sections longer than this are refused. */
const MAX_LINE = 4096;
const MAX_TRAILERS = 16 * 1024;

const enum St { Size, SizeExt, SizeLf, Data, DataCr, DataLf, Trailer, Done }

export class BodyDecoder {
  #st: St;
  /** Bytes left: of the body (length framing) or of the current chunk. */
  #left: number;
  readonly #chunked: boolean;
  readonly #close: boolean;
  #size = 0;
  #lineLen = 0;
  #trailerBytes = 0;
  /** In the trailer section: characters seen on the current line. */
  #trailerLine = 0;

  constructor(f: Framing) {
    this.#chunked = f.kind === 'chunked';
    this.#close = f.kind === 'close';
    this.#left = f.kind === 'length' ? f.length : 0;
    this.#st = f.kind === 'none' ? St.Done : this.#chunked ? St.Size : St.Data;
  }

  get done(): boolean {
    return this.#st === St.Done;
  }

  /** A close-delimited body ends when the connection does. */
  get closeDelimited(): boolean {
    return this.#close;
  }

  /**
   * Consumes buf[start, end), calling onData with body slices; returns how many
   * bytes were consumed (less than given only once the body is done).
   */
  push(buf: Buffer, start: number, end: number, onData: (chunk: Buffer) => void): number {
    if (this.#close) {
      if (end > start) onData(buf.subarray(start, end));
      return end - start;
    }
    if (!this.#chunked) return this.#pushLength(buf, start, end, onData);
    let i = start;
    while (i < end && this.#st !== St.Done) i = this.#step(buf, i, end, onData);
    return i - start;
  }

  #pushLength(buf: Buffer, start: number, end: number, onData: (chunk: Buffer) => void): number {
    const n = Math.min(this.#left, end - start);
    if (n > 0) {
      this.#left -= n;
      onData(buf.subarray(start, start + n));
    }
    if (this.#left === 0) this.#st = St.Done;
    return n;
  }

  /** One state transition of the chunked decoder; returns the next index. */
  #step(buf: Buffer, i: number, end: number, onData: (chunk: Buffer) => void): number {
    const c = buf[i]!;
    switch (this.#st) {
      case St.Size: {
        const d = hex(c);
        if (d >= 0) {
          if (++this.#lineLen > 12) throw new HeadError('chunk size too large');
          this.#size = this.#size * 16 + d;
          return i + 1;
        }
        if (this.#lineLen === 0) throw new HeadError('invalid chunk size');
        if (c === 13) this.#st = St.SizeLf;
        else if (c === 59 /* ; */ || c === 32 || c === 9) this.#st = St.SizeExt;
        else throw new HeadError('invalid chunk size');
        return i + 1;
      }
      case St.SizeExt:
        if (c === 13) this.#st = St.SizeLf;
        else if (++this.#lineLen > MAX_LINE) throw new HeadError('chunk extension too long');
        return i + 1;
      case St.SizeLf:
        if (c !== 10) throw new HeadError('expected LF after chunk size');
        this.#lineLen = 0;
        this.#left = this.#size;
        this.#size = 0;
        this.#st = this.#left === 0 ? St.Trailer : St.Data;
        this.#trailerLine = 0;
        return i + 1;
      case St.Data: {
        const n = Math.min(this.#left, end - i);
        this.#left -= n;
        onData(buf.subarray(i, i + n));
        if (this.#left === 0) this.#st = St.DataCr;
        return i + n;
      }
      case St.DataCr:
        if (c !== 13) throw new HeadError('expected CR after chunk data');
        this.#st = St.DataLf;
        return i + 1;
      case St.DataLf:
        if (c !== 10) throw new HeadError('expected LF after chunk data');
        this.#st = St.Size;
        return i + 1;
      case St.Trailer:
        return this.#trailer(c, i);
      default:
        return end;
    }
  }

  /** Trailer lines until an empty line; the last-chunk's own CRLF is the empty line when there are none. */
  #trailer(c: number, i: number): number {
    if (++this.#trailerBytes > MAX_TRAILERS) throw new HeadError('trailers too large');
    if (c === 10) {
      if (this.#trailerLine === 0) this.#st = St.Done;
      this.#trailerLine = 0;
    } else if (c !== 13) this.#trailerLine++;
    return i + 1;
  }
}

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

/** Chunked framing of one piece of body: the size line, for writing before the data (then CRLF after). */
export function chunkHeader(n: number): string {
  return `${n.toString(16)}\r\n`;
}

export const LAST_CHUNK = '0\r\n\r\n';
