import { LoginDto } from '../../auth/dto/login.dto.js';
import { ApiError } from '../../common/errors/api-error.js';
import { createValidationPipe, hasAsyncRule } from '../../common/validation.js';
import { AuthRefreshDto } from './auth-refresh.dto.js';
import { NotificationBatchDto, NotificationBatchItemDto } from './notification-batch.dto.js';
import { NotificationContentDto } from './notification-content.dto.js';
import { NotificationCreateDto } from './notification-create.dto.js';
import { NotificationMarkReadDto } from './notification-mark-read.dto.js';
import { NotificationListQueryDto, NotificationSyncDto } from './notification-query.dto.js';

// The validation pipe checks these synchronously (validateSync), which would skip an async rule.
describe('the payloads of the gateway', () => {
  it('finds no async rule on the payloads it checks synchronously', () => {
    const payloads = [LoginDto, AuthRefreshDto, NotificationBatchDto, NotificationBatchItemDto, NotificationContentDto, NotificationCreateDto, NotificationMarkReadDto, NotificationListQueryDto, NotificationSyncDto];
    expect(payloads.filter((payload) => hasAsyncRule(payload)).map((payload) => payload.name)).toEqual([]);
  });

  it('refuses a bad create body with the same field errors as before', async () => {
    const refusal = await createValidationPipe()
      .transform({ title: '', content: 'x', priority: 'urgent', extra: 1 }, { type: 'body', metatype: NotificationCreateDto })
      .catch((error: unknown) => error);
    expect((refusal as ApiError).errors).toEqual([
      { field: 'extra', messages: ['property extra should not exist'] },
      { field: 'title', messages: ['title must be longer than or equal to 1 characters'] },
      { field: 'priority', messages: ['priority must be one of the following values: low, medium, high'] },
    ]);
  });
});
