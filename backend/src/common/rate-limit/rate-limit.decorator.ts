import { SetMetadata } from '@nestjs/common';

export const THROTTLER_OPT_IN = 'throttler:optIn';

/** Opts a route into the named @nestjs/throttler throttlers `auth` / `upload` (the `default` one applies everywhere). */
export const UseThrottlers = (...names: ('auth' | 'upload')[]) => SetMetadata(THROTTLER_OPT_IN, names);
