import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { LoginThrottle } from './login-throttle.js';
import { PasswordHasher } from './password-hasher.js';
import { TokenVerifier } from './token-verifier.js';
import { UserDirectory } from './user-directory.js';
import { UserStateChannel } from './user-state-channel.js';

@Module({
  // Keys and algorithms are passed per call from the validated config; no defaults here.
  imports: [JwtModule.register({})],
  controllers: [AuthController],
  providers: [AuthService, LoginThrottle, PasswordHasher, TokenVerifier, UserDirectory, UserStateChannel],
  exports: [TokenVerifier, PasswordHasher, UserDirectory, UserStateChannel],
})
export class AuthModule {}
