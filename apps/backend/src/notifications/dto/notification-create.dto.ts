import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { SCOPES, type CreateNotificationPayload, type NotificationScope } from '@notify-gateway/contracts';
import { RefuseProtoKey } from '../../common/validation.js';
import { NotificationContentDto } from './notification-content.dto.js';

/** `POST /notifications` and `notification:create`. */
@RefuseProtoKey()
export class NotificationCreateDto extends NotificationContentDto implements CreateNotificationPayload {
  /** Defaults to USER. USER needs userId; GLOBAL is for SUPER_ADMIN only. */
  @ApiPropertyOptional({ enum: SCOPES, default: 'USER', description: 'USER needs userId; GLOBAL is for SUPER_ADMIN only' })
  @IsOptional()
  @IsIn(SCOPES)
  scope?: NotificationScope;

  @ApiPropertyOptional({ format: 'uuid', description: 'Recipient, for scope USER; an ADMIN reaches its own tenant only' })
  @IsOptional()
  @IsUUID()
  userId?: string;

  /** TENANT scope only, SUPER_ADMIN only: another tenant than the caller's own. */
  @ApiPropertyOptional({ format: 'uuid', description: "Scope TENANT: defaults to the caller's tenant; another tenant needs SUPER_ADMIN" })
  @IsOptional()
  @IsUUID()
  tenantId?: string;
}
