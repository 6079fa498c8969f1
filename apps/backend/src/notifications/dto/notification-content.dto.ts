import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsObject, IsOptional, IsString, Length, Matches } from 'class-validator';
import { NOTIFICATION_LIMITS, PRIORITIES, type NotificationPriority } from '@notify-gateway/contracts';
import { JsonData } from './json-data.transform.js';
import { MaxJsonSize } from './max-json-size.validator.js';
import { StorableJson, StorableText } from './storable-text.validator.js';

/** One line of text: no control characters at all (C0 but tab, DEL, C1). */
export const SINGLE_LINE_TEXT = /^[^\u0000-\u0008\u000a-\u001f\u007f-\u009f]*$/;
/** Text that may break lines: tab, line feed and carriage return, and no other control character. */
export const MULTI_LINE_TEXT = /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$/;

/** What every notification carries, whoever sends it (REST, WebSocket, another module). */
export class NotificationContentDto {
  @ApiProperty({ minLength: NOTIFICATION_LIMITS.titleMin, maxLength: NOTIFICATION_LIMITS.titleMax, example: 'Deployment finished' })
  @IsString()
  @Length(NOTIFICATION_LIMITS.titleMin, NOTIFICATION_LIMITS.titleMax)
  @Matches(SINGLE_LINE_TEXT, { message: 'title must be one line without control characters' })
  @StorableText()
  title!: string;

  @ApiProperty({ minLength: NOTIFICATION_LIMITS.contentMin, maxLength: NOTIFICATION_LIMITS.contentMax, example: 'Version 2.4 is live.' })
  @IsString()
  @Length(NOTIFICATION_LIMITS.contentMin, NOTIFICATION_LIMITS.contentMax)
  @Matches(MULTI_LINE_TEXT, { message: 'content must not contain control characters' })
  @StorableText()
  content!: string;

  @ApiPropertyOptional({ enum: PRIORITIES, default: 'medium' })
  @IsOptional()
  @IsIn(PRIORITIES)
  priority?: NotificationPriority;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: `JSON object, at most ${NOTIFICATION_LIMITS.dataMaxBytes} bytes serialised` })
  @JsonData()
  @IsOptional()
  @IsObject()
  @MaxJsonSize(NOTIFICATION_LIMITS.dataMaxBytes)
  @StorableJson()
  data?: Record<string, unknown>;
}
