import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { NOTIFICATION_LIMITS } from '@notify-gateway/contracts';

export const CURSOR_PATTERN = /^\d{1,19}$/;

/** `notification:sync` payload. */
export class NotificationSyncDto {
  @ApiPropertyOptional({ pattern: CURSOR_PATTERN.source })
  @IsOptional()
  @Matches(CURSOR_PATTERN, { message: 'after must be a cursor' })
  after?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: NOTIFICATION_LIMITS.pageMax })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(NOTIFICATION_LIMITS.pageMax)
  limit?: number;
}

/** `GET /notifications` query: numbers arrive as strings. */
export class NotificationListQueryDto {
  @ApiPropertyOptional({ pattern: CURSOR_PATTERN.source, description: 'Cursor: when given, notifications after it, oldest first; otherwise the newest first' })
  @IsOptional()
  @Matches(CURSOR_PATTERN, { message: 'after must be a cursor' })
  after?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: NOTIFICATION_LIMITS.pageMax, default: NOTIFICATION_LIMITS.pageDefault })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(NOTIFICATION_LIMITS.pageMax)
  limit?: number;
}
