import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AppException } from '../shared/errors/app-exception';
import { ErrorCode } from '../shared/errors/error-code';
import { BATCH_SETTINGS, type BatchSettings } from './batch.options';

/**
 * 413 PAYLOAD_TOO_LARGE for a body over `maxBodyBytes`, whatever the host's own body
 * limit let through (the real host parses up to 50 MB): the declared length, or the
 * parsed body's size when it was sent without one.
 */
@Injectable()
export class RequestSizeGuard implements CanActivate {
  constructor(@Inject(BATCH_SETTINGS) private readonly settings: BatchSettings) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const declared = Number(request.headers['content-length']);
    const size =
      Number.isFinite(declared) && declared > 0
        ? declared
        : Buffer.byteLength(JSON.stringify(request.body ?? null));
    if (size > this.settings.maxBodyBytes)
      throw new AppException(
        ErrorCode.PayloadTooLarge,
        `Request body of ${size} bytes exceeds the limit of ${this.settings.maxBodyBytes}`,
      );
    return true;
  }
}
