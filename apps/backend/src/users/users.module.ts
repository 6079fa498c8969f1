import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { UserAccountService } from './user-account.service.js';

@Module({
  imports: [AuthModule, NotificationsModule],
  providers: [UserAccountService],
  exports: [UserAccountService],
})
export class UsersModule {}
