import { ApiProperty } from '@nestjs/swagger';
import type { LoginRequest } from '@notify-gateway/contracts';
import { IsEmail, IsString, MaxLength, MinLength } from 'class-validator';

/** `POST /auth/login`. */
export class LoginDto implements LoginRequest {
  @ApiProperty({ format: 'email', example: 'user@acme.test' })
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @ApiProperty({ format: 'password', minLength: 1, maxLength: 256 })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  password!: string;
}
