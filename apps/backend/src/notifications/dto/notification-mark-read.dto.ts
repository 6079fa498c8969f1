import { IsUUID } from 'class-validator';

export class NotificationMarkReadDto {
  @IsUUID()
  notificationId!: string;
}

/** `notification:mark-all-read` takes no fields; unknown ones are refused. */
export class NotificationMarkAllReadDto {}
