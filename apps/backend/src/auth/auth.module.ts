import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { DirectoryMirror } from './directory-mirror.js';
import { PasswordHasher } from './password-hasher.js';
import { TokenVerifier } from './token-verifier.js';
import { UserDirectory } from './user-directory.js';
import { GatewayConfigModule } from '../config/gateway-config.module.js';

@Module({
  // Keys and algorithms are passed per call from the validated config; no defaults here.
  imports: [JwtModule.register({}), GatewayConfigModule],
  controllers: [AuthController],
  providers: [AuthService, PasswordHasher, TokenVerifier, UserDirectory, DirectoryMirror],
  exports: [TokenVerifier, PasswordHasher, UserDirectory],
})
export class AuthModule {}
