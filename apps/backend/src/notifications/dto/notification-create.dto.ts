import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { SCOPES, type NotificationScope } from '@notify-gateway/contracts';
import { NotificationContentDto } from './notification-content.dto.js';

/** `POST /notifications` and `notification:create`. */
export class NotificationCreateDto extends NotificationContentDto {
  /** Defaults to USER. USER needs userId; GLOBAL is for SUPER_ADMIN only. */
  @IsOptional()
  @IsIn(SCOPES)
  scope?: NotificationScope;

  @IsOptional()
  @IsUUID()
  userId?: string;

  /** TENANT scope only, SUPER_ADMIN only: another tenant than the caller's own. */
  @IsOptional()
  @IsUUID()
  tenantId?: string;
}
