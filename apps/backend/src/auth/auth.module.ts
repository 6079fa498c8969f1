import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { DirectoryMirror } from './directory-mirror.js';
import { LoginThrottle } from './login-throttle.js';
import { PasswordHasher } from './password-hasher.js';
import { JwksKeySource } from './jwks-key-source.js';
import { TokenRevocations } from './token-revocations.js';
import { TokenVerifier } from './token-verifier.js';
import { UserDirectory } from './user-directory.js';
import { UserStateChannel } from './user-state-channel.js';
import { VerificationKeys } from './verification-keys.js';
import { GatewayConfigModule } from '../config/gateway-config.module.js';

@Module({
  // Keys and algorithms are passed per call from the validated config; no defaults here.
  imports: [JwtModule.register({}), GatewayConfigModule],
  controllers: [AuthController],
  providers: [AuthService, LoginThrottle, PasswordHasher, TokenVerifier, UserDirectory, DirectoryMirror, UserStateChannel, JwksKeySource, VerificationKeys, TokenRevocations],
  exports: [TokenVerifier, PasswordHasher, UserDirectory, UserStateChannel, TokenRevocations],
})
export class AuthModule {}
