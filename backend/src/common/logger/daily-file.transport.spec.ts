import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { DailyFileTransport } from './daily-file.transport';

const localTime = (y: number, m: number, d: number, h = 12, min = 0) =>
  new Date(y, m - 1, d, h, min).getTime();

describe('DailyFileTransport', () => {
  let dir: string;
  let now: number;
  /** A transport writing `application-<day>.log` in `dir`, kept 14 days, on the test's clock. */
  const daily = (options: { name?: string; level?: string } = {}) =>
    new DailyFileTransport({ dirname: dir, name: 'application', maxDays: 14, now: () => now, ...options });
  const loggerWith = (...transports: DailyFileTransport[]) =>
    winston.createLogger({ level: 'info', format: winston.format.json(), transports });
  const ended = (logger: winston.Logger) =>
    new Promise<void>((resolve) => {
      logger.on('finish', () => resolve());
      logger.end();
    });
  const lines = (file: string) =>
    fs
      .readFileSync(path.join(dir, file), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'daily-file-'));
    now = localTime(2026, 12, 3, 23, 59);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('appends JSON lines to the day’s file and has them on disk when the logger finishes', async () => {
    fs.writeFileSync(path.join(dir, 'application-2026-12-03.log'), '{"message":"before"}\n');
    const logger = loggerWith(daily());
    logger.info('first', { n: 1 });
    logger.warn('second', { n: 2 });
    await ended(logger);
    expect(lines('application-2026-12-03.log')).toEqual([
      { message: 'before' },
      { level: 'info', message: 'first', n: 1 },
      { level: 'warn', message: 'second', n: 2 },
    ]);
  });

  it('starts a new file when the local day changes', async () => {
    const logger = loggerWith(daily());
    logger.info('late');
    now = localTime(2026, 12, 4, 0, 1);
    logger.info('early');
    await ended(logger);
    expect(lines('application-2026-12-03.log').map((l) => l.message)).toEqual(['late']);
    expect(lines('application-2026-12-04.log').map((l) => l.message)).toEqual(['early']);
  });

  it('keeps only its level and up', async () => {
    const logger = loggerWith(daily({ name: 'error', level: 'error' }));
    logger.info('routine');
    logger.error('broken');
    await ended(logger);
    expect(lines('error-2026-12-03.log').map((l) => l.message)).toEqual(['broken']);
  });

  it('deletes its own files older than maxDays and nothing else', async () => {
    const kept = ['application-2026-11-19.log', 'security-2026-01-01.log', 'application-notes.txt'];
    const old = ['application-2026-11-18.log', 'application-2025-12-31.log'];
    for (const file of [...kept, ...old]) fs.writeFileSync(path.join(dir, file), 'x\n');
    const logger = loggerWith(daily());
    logger.info('today');
    await ended(logger);
    const deadline = Date.now() + 5000;
    while (old.some((f) => fs.existsSync(path.join(dir, f))) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(fs.readdirSync(dir).sort()).toEqual([...kept, 'application-2026-12-03.log'].sort());
  });

  it('opens the next day’s file in its directory again when the directory was removed', async () => {
    const logger = loggerWith(daily());
    logger.info('first');
    fs.rmSync(dir, { recursive: true, force: true });
    now = localTime(2026, 12, 4);
    logger.info('next day');
    await ended(logger);
    expect(lines('application-2026-12-04.log').map((l) => l.message)).toEqual(['next day']);
  });

  it('loses the lines, not the process, when the file cannot be opened', async () => {
    const logger = loggerWith(daily());
    fs.rmSync(dir, { recursive: true, force: true });
    fs.writeFileSync(dir, 'a file where the directory was');
    logger.info('lost');
    await ended(logger);
    expect(fs.readFileSync(dir, 'utf8')).toBe('a file where the directory was');
  });
});
