import type { AuthRefreshPayload } from '@notify-gateway/contracts';
import { IsString, MaxLength, MinLength } from 'class-validator';

/** `auth:refresh`: the verifier bounds the token by JWT_MAX_LENGTH; this only bounds the payload. */
export class AuthRefreshDto implements AuthRefreshPayload {
  @IsString()
  @MinLength(1)
  @MaxLength(65536)
  token!: string;
}
