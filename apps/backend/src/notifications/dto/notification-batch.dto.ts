import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsOptional, Matches, ValidateNested } from 'class-validator';
import { IDEMPOTENCY_KEY_PATTERN, NOTIFICATION_LIMITS, type NotificationBatchItem, type NotificationBatchRequest } from '@notify-gateway/contracts';
import { NotificationCreateDto } from './notification-create.dto.js';

export const IDEMPOTENCY_KEY = new RegExp(IDEMPOTENCY_KEY_PATTERN);

/** One item of `POST /notifications/batch`: a create, optionally with its idempotency key. */
export class NotificationBatchItemDto extends NotificationCreateDto implements NotificationBatchItem {
  @ApiPropertyOptional({ pattern: IDEMPOTENCY_KEY_PATTERN, description: 'A retry with this key within 24 h returns the original and stores nothing' })
  @IsOptional()
  @Matches(IDEMPOTENCY_KEY, { message: 'idempotencyKey must be 1–128 characters of A-Z a-z 0-9 . _ : -' })
  idempotencyKey?: string;
}

/** Every item is validated before any is stored. */
export class NotificationBatchDto implements NotificationBatchRequest {
  @ApiProperty({ type: [NotificationBatchItemDto], minItems: 1, maxItems: NOTIFICATION_LIMITS.batchMax })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(NOTIFICATION_LIMITS.batchMax)
  @ValidateNested({ each: true })
  @Type(() => NotificationBatchItemDto)
  items!: NotificationBatchItemDto[];
}
