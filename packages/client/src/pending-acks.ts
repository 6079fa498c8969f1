import { NotificationClientError } from './errors.js';

/**
 * Emits waiting for an acknowledgement: bounded in time, and failed at once by a disconnect
 * (socket.io drops plain ack callbacks silently when the connection goes).
 */
export class PendingAcks {
  private readonly pending = new Set<(error: NotificationClientError) => void>();

  constructor(private readonly timeoutMs: number) {}

  request<T>(emit: (done: (response: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fail = (error: NotificationClientError): void => {
        clearTimeout(timer);
        this.pending.delete(fail);
        reject(error);
      };
      const timer = setTimeout(() => fail(new NotificationClientError('TIMEOUT', 'no acknowledgement in time')), this.timeoutMs);
      this.pending.add(fail);
      emit((response) => {
        if (!this.pending.delete(fail)) return;
        clearTimeout(timer);
        resolve(response);
      });
    });
  }

  failAll(message: string): void {
    for (const fail of [...this.pending]) fail(new NotificationClientError('TRANSPORT_ERROR', message));
  }

  get size(): number {
    return this.pending.size;
  }
}
