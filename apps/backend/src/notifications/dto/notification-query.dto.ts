import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { NOTIFICATION_LIMITS } from '@notify-gateway/contracts';

export const CURSOR_PATTERN = /^\d{1,19}$/;

/** `notification:sync` payload. */
export class NotificationSyncDto {
  @IsOptional()
  @Matches(CURSOR_PATTERN, { message: 'after must be a cursor' })
  after?: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(NOTIFICATION_LIMITS.pageMax)
  limit?: number;
}

/** `GET /notifications` query: numbers arrive as strings. */
export class NotificationListQueryDto {
  @IsOptional()
  @Matches(CURSOR_PATTERN, { message: 'after must be a cursor' })
  after?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(NOTIFICATION_LIMITS.pageMax)
  limit?: number;
}
