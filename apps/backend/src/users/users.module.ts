import { Module } from '@nestjs/common';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { UserAccountService } from './user-account.service.js';

@Module({
  imports: [NotificationsModule],
  providers: [UserAccountService],
  exports: [UserAccountService],
})
export class UsersModule {}
