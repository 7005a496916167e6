import fs from 'node:fs';
import path from 'node:path';
import type { Logform } from 'winston';
import TransportStream from 'winston-transport';

/** Where winston puts the formatted line (triple-beam's MESSAGE). */
const MESSAGE = Symbol.for('message');

const DAY_MS = 24 * 60 * 60 * 1000;

export interface DailyFileOptions {
  dirname: string;
  /** Files are `<name>-YYYY-MM-DD.log`, by the local date. */
  name: string;
  /** Files whose date is more than this many days before today are deleted when a day's file opens. */
  maxDays: number;
  level?: string;
  format?: Logform.Format;
  now?: () => number;
}

const pad = (n: number) => String(n).padStart(2, '0');
const localDay = (t: Date) => `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}`;

/**
 * Log lines appended to one file per day, older files deleted. Written here rather than
 * taken from winston-daily-rotate-file, which asks moment for the date on every line to
 * see whether the day changed: in a CPU profile of 20k-item batches at LOG_LEVEL=info in
 * chunks of 100 (one performance line per chunk), a line took ~106 µs of the event loop,
 * ~30 % of it in moment; ~75 µs with this transport. Here the day changes when the clock
 * passes the next local midnight: one comparison per line.
 */
export class DailyFileTransport extends TransportStream {
  private stream: fs.WriteStream | null = null;
  private nextDayAt = -Infinity;
  private readonly now: () => number;

  constructor(private readonly options: DailyFileOptions) {
    super({ level: options.level, format: options.format });
    this.now = options.now ?? Date.now;
    fs.mkdirSync(options.dirname, { recursive: true });
  }

  /** Today's file (as the transport's clock says). */
  get filename(): string {
    return path.join(this.options.dirname, `${this.options.name}-${localDay(new Date(this.now()))}.log`);
  }

  /**
   * Appends through a write stream: lines written while one write is in flight go out
   * together in the next. (Synchronous writes measured ~28 µs per line on this machine's
   * file system, all of it on the event loop.)
   */
  override log(info: Record<string | symbol, unknown>, callback: () => void): void {
    if (this.now() >= this.nextDayAt) this.openToday();
    this.stream?.write(`${String(info[MESSAGE])}\n`);
    callback();
  }

  /** Flushes the file before the transport (and so the logger) reports 'finish'. */
  override _final(callback: () => void): void {
    this.endStream(callback);
  }

  override close(): void {
    this.endStream(() => undefined);
  }

  private endStream(callback: () => void): void {
    const stream = this.stream;
    this.stream = null;
    this.nextDayAt = -Infinity;
    if (!stream || stream.closed) return callback();
    // 'close' comes after the last write is flushed, or after an error (the file never opened).
    stream.once('close', () => callback());
    if (!stream.writableEnded) stream.end();
  }

  private openToday(): void {
    const today = new Date(this.now());
    this.endStream(() => undefined);
    this.nextDayAt = new Date(today.getFullYear(), today.getMonth(), today.getDate() + 1).getTime();
    try {
      // Again each day: a log directory removed while the service runs comes back.
      fs.mkdirSync(this.options.dirname, { recursive: true });
    } catch {
      // The stream below fails the same way, and that is handled there.
    }
    const stream = fs.createWriteStream(this.filename, { flags: 'a' });
    // A log file that cannot be written (disk full, no directory) must not end the process:
    // its lines are lost, the service goes on, and the next day opens a new file.
    stream.on('error', () => undefined);
    this.stream = stream;
    this.prune(today);
  }

  /** Deletes this transport's files dated more than maxDays before `today` (in the background). */
  private prune(today: Date): void {
    const oldest = localDay(new Date(today.getTime() - this.options.maxDays * DAY_MS));
    const pattern = new RegExp(`^${escapeRegExp(this.options.name)}-(\\d{4}-\\d{2}-\\d{2})\\.log$`);
    fs.readdir(this.options.dirname, (error, files) => {
      if (error) return;
      for (const file of files) {
        const day = pattern.exec(file)?.[1];
        if (day !== undefined && day < oldest)
          fs.unlink(path.join(this.options.dirname, file), () => undefined);
      }
    });
  }
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
