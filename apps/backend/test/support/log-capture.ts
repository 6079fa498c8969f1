/** A pino destination that keeps every line, so tests can assert on events and on leaks. */
export class LogCapture {
  readonly lines: string[] = [];

  write(line: string): void {
    this.lines.push(line);
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
