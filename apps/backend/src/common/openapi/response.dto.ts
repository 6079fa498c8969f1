import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  HTTP_ERROR_CODES,
  PRIORITIES,
  SCOPES,
  type HttpErrorBody,
  type HttpErrorCode,
  type LoginResponse,
  type NotificationPage,
  type NotificationPriority,
  type NotificationScope,
  type NotificationView,
  type StreamTicketResponse,
  type NotificationBatchResponse,
  type StreamPosition,
  type StreamReset,
  type StreamResetReason,
} from '@notify-gateway/contracts';

/*
 * Response shapes for the OpenAPI document. Each class implements the contract type it
 * documents, so the compiler refuses a drift between the two.
 */

export class FieldErrorDto {
  @ApiProperty()
  field!: string;

  @ApiProperty({ type: [String] })
  messages!: string[];
}

export class ErrorBodyDto implements HttpErrorBody {
  @ApiProperty({ example: 400 })
  statusCode!: number;

  @ApiProperty({ enum: HTTP_ERROR_CODES })
  code!: HttpErrorCode;

  @ApiProperty({ example: 'Validation failed' })
  message!: string;

  @ApiPropertyOptional({ type: [FieldErrorDto] })
  errors?: FieldErrorDto[];
}

export class NotificationViewDto implements NotificationView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: '42', description: 'Orders a listing (seq); does not prove commit order: resume by `position`' })
  cursor!: string;

  @ApiProperty({ example: 'user:7d2b0c0e-8a57-4d43-9a53-2f8e1c1f2a10', description: '`user:{id}`, `tenant:{id}` or `global`' })
  stream!: string;

  @ApiProperty({ example: '17', description: 'Dense offset in the stream (decimal string)' })
  offset!: string;

  @ApiProperty({ example: '3f9a1c0b7e2d', description: "The stream's epoch; a new one voids positions held for it" })
  epoch!: string;

  @ApiProperty({ enum: SCOPES })
  scope!: NotificationScope;

  @ApiProperty()
  title!: string;

  @ApiProperty()
  content!: string;

  @ApiProperty({ enum: PRIORITIES })
  priority!: NotificationPriority;

  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true })
  data!: Record<string, unknown> | null;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiPropertyOptional({ description: 'Whether the caller has read it (listings only)' })
  read?: boolean;
}

export class StreamPositionDto implements StreamPosition {
  @ApiProperty()
  stream!: string;

  @ApiProperty()
  epoch!: string;

  @ApiProperty({ description: 'Last offset held (decimal string)' })
  offset!: string;
}

export class StreamResetDto implements StreamReset {
  @ApiProperty()
  stream!: string;

  @ApiProperty({ enum: ['EPOCH_CHANGED', 'AHEAD_OF_STREAM', 'TOO_FAR_BEHIND', 'PRUNED'] })
  reason!: StreamResetReason;
}

export class NotificationPageDto implements NotificationPage {
  @ApiProperty({ type: [NotificationViewDto] })
  items!: NotificationViewDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `after` to continue' })
  cursor!: string | null;

  @ApiProperty()
  hasMore!: boolean;

  @ApiPropertyOptional({ example: 'u.3f9a1c0b7e2d.17', description: 'Position after this page (position-based pages and the latest page): pass as `position`' })
  position?: string;

  @ApiPropertyOptional({ type: [StreamPositionDto] })
  streams?: StreamPositionDto[];

  @ApiPropertyOptional({ type: [StreamResetDto], description: 'Streams whose given position was void: reload the latest page' })
  reset?: StreamResetDto[];
}

export class NotificationBatchResponseDto implements NotificationBatchResponse {
  @ApiProperty({ type: [NotificationViewDto], description: 'The stored notifications, in item order' })
  items!: NotificationViewDto[];
}

export class LoginResponseDto implements LoginResponse {
  @ApiProperty()
  accessToken!: string;

  @ApiProperty({ enum: ['Bearer'] })
  tokenType!: 'Bearer';

  @ApiProperty({ description: 'Seconds' })
  expiresIn!: number;
}

export class StreamTicketDto implements StreamTicketResponse {
  @ApiProperty({ description: 'Single use, for `GET /notifications/stream?ticket=`' })
  ticket!: string;

  @ApiProperty({ description: 'Seconds, at most 60' })
  expiresIn!: number;
}

export class CountDto {
  @ApiProperty()
  count!: number;
}

export class OkCountDto {
  @ApiProperty({ enum: [true] })
  ok!: true;

  @ApiPropertyOptional()
  count?: number;
}
