import type { MarkReadPayload } from '@notify-gateway/contracts';
import { IsUUID } from 'class-validator';

/** `notification:mark-read`. */
export class NotificationMarkReadDto implements MarkReadPayload {
  @IsUUID()
  notificationId!: string;
}
