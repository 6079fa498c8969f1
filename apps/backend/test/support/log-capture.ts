import { appendFileSync } from 'node:fs';

/**
 * A pino destination that keeps every line, so tests can assert on events and on leaks.
 * nestjs-pino keeps one root logger per process (the first app's), so every app a test file
 * starts writes here: one capture per process. Lines also go to the run's log file, which the
 * global teardown scans for credentials.
 */
export class LogCapture {
  private static instance?: LogCapture;
  readonly lines: string[] = [];

  static shared(): LogCapture {
    LogCapture.instance ??= new LogCapture();
    return LogCapture.instance;
  }

  write(line: string): void {
    this.lines.push(line);
    if (process.env.TEST_LOG_FILE) appendFileSync(process.env.TEST_LOG_FILE, line.endsWith('\n') ? line : `${line}\n`);
    if (process.env.TEST_LOGS === 'stdout') process.stdout.write(line);
  }

  entries(): Record<string, unknown>[] {
    return this.lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  securityEvents(event?: string): Record<string, unknown>[] {
    return this.entries().filter((entry) => entry.msg === 'SECURITY' && (event === undefined || entry.event === event));
  }

  /** Every line that contains any of the given secrets. */
  leaksOf(secrets: string[]): string[] {
    return this.lines.filter((line) => secrets.some((secret) => secret.length > 0 && line.includes(secret)));
  }
}
