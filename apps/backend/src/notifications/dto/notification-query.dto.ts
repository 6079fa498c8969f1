import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { NOTIFICATION_LIMITS, STREAM_LIMITS, type StreamPosition } from '@notify-gateway/contracts';

export const CURSOR_PATTERN = /^\d{1,19}$/;
/** The encoded position's alphabet and bound; its grammar is checked by decodePosition. */
export const POSITION_SHAPE = /^[A-Za-z0-9._]+$/;

/** `notification:sync` payload. */
export class NotificationSyncDto {
  @ApiPropertyOptional({ description: 'Encoded position (docs/DELIVERY.md) or [{stream, epoch, offset}]' })
  @IsOptional()
  @ValidateIf((_: unknown, value: unknown) => !Array.isArray(value))
  @IsString()
  @MaxLength(STREAM_LIMITS.positionMaxLength)
  @Matches(POSITION_SHAPE, { message: 'position must be an encoded position' })
  position?: string | StreamPosition[];

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
  @ApiPropertyOptional({ description: 'Encoded position (docs/DELIVERY.md): the notifications after it, per stream, oldest first' })
  @IsOptional()
  @IsString()
  @MaxLength(STREAM_LIMITS.positionMaxLength)
  @Matches(POSITION_SHAPE, { message: 'position must be an encoded position' })
  position?: string;

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
