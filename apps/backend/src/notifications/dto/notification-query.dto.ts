import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { CURSOR_PATTERN, NOTIFICATION_LIMITS, STREAM_LIMITS, type NotificationListQuery, type StreamPosition, type SyncPayload } from '@notify-gateway/contracts';

const CURSOR = new RegExp(CURSOR_PATTERN);
/** The encoded position's alphabet and bound; its grammar is checked by decodePosition. */
export const POSITION_SHAPE = /^[A-Za-z0-9._]+$/;

/** `notification:sync` payload. */
export class NotificationSyncDto implements SyncPayload {
  @ApiPropertyOptional({ description: 'Encoded position (docs/DELIVERY.md) or [{stream, epoch, offset}]' })
  @IsOptional()
  @ValidateIf((_: unknown, value: unknown) => !Array.isArray(value))
  @IsString()
  @MaxLength(STREAM_LIMITS.positionMaxLength)
  @Matches(POSITION_SHAPE, { message: 'position must be an encoded position' })
  position?: string | StreamPosition[];

  @ApiPropertyOptional({ pattern: CURSOR_PATTERN })
  @IsOptional()
  @Matches(CURSOR, { message: 'after must be a cursor' })
  after?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: NOTIFICATION_LIMITS.pageMax })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(NOTIFICATION_LIMITS.pageMax)
  limit?: number;
}

/** `GET /notifications` query: numbers arrive as strings. */
export class NotificationListQueryDto implements NotificationListQuery {
  @ApiPropertyOptional({ description: 'Encoded position (docs/DELIVERY.md): the notifications after it, per stream, oldest first' })
  @IsOptional()
  @IsString()
  @MaxLength(STREAM_LIMITS.positionMaxLength)
  @Matches(POSITION_SHAPE, { message: 'position must be an encoded position' })
  position?: string;

  @ApiPropertyOptional({ pattern: CURSOR_PATTERN, description: 'Cursor: when given, notifications after it, oldest first; otherwise the newest first' })
  @IsOptional()
  @Matches(CURSOR, { message: 'after must be a cursor' })
  after?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: NOTIFICATION_LIMITS.pageMax, default: NOTIFICATION_LIMITS.pageDefault })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(NOTIFICATION_LIMITS.pageMax)
  limit?: number;
}
