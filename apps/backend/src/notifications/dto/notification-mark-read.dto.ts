import { IsUUID } from 'class-validator';

export class NotificationMarkReadDto {
  @IsUUID()
  notificationId!: string;
}
