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

  @ApiProperty({ example: '42', description: 'Catch-up cursor: pass the highest one held as `after`' })
  cursor!: string;

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

export class NotificationPageDto implements NotificationPage {
  @ApiProperty({ type: [NotificationViewDto] })
  items!: NotificationViewDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `after` to continue' })
  cursor!: string | null;

  @ApiProperty()
  hasMore!: boolean;
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
