import type {
  ErrorCode,
  EvaluationContext,
  JsonValue,
  Provider,
  ResolutionDetails,
  ResolutionReason,
} from '@openfeature/server-sdk';
import type { FeatureFlagsService } from './feature-flags.service';

/** OpenFeature's error codes we answer with (its enum is only a type here: no runtime import). */
const errorCode = (code: 'FLAG_NOT_FOUND' | 'TARGETING_KEY_MISSING' | 'TYPE_MISMATCH' | 'GENERAL') =>
  code as unknown as ErrorCode;

/**
 * An OpenFeature server provider over these flags, so a host evaluates them with the
 * standard SDK (`OpenFeature.setProvider(new FeatureFlagsProvider(flags))`; with
 * `@openfeature/nestjs-sdk`, pass it as the default provider). Flags are booleans: the
 * targeting key is the user id, the reasons are the module's own (DISABLED,
 * TARGETING_MATCH, SPLIT, DEFAULT, ERROR with FLAG_NOT_FOUND), the variant says on or off,
 * and the flag metadata carries the user's bucket. Other types answer the default with
 * TYPE_MISMATCH. The evaluation is the module's, from its cache: the same answer as
 * `GET /me/features` and the batch routes' guard give.
 */
export class FeatureFlagsProvider implements Provider {
  readonly metadata = { name: 'nest-batch-ops feature flags' } as const;
  readonly runsOn = 'server' as const;

  constructor(private readonly flags: FeatureFlagsService) {}

  async resolveBooleanEvaluation(
    flagKey: string,
    defaultValue: boolean,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<boolean>> {
    const userId = context.targetingKey;
    if (!userId)
      return {
        value: defaultValue,
        reason: 'ERROR',
        errorCode: errorCode('TARGETING_KEY_MISSING'),
        errorMessage: 'A targetingKey (the user id) is needed',
      };
    try {
      const evaluation = await this.flags.evaluate(flagKey, userId);
      if (evaluation.errorCode === 'FLAG_NOT_FOUND')
        return {
          value: defaultValue,
          reason: 'ERROR',
          errorCode: errorCode('FLAG_NOT_FOUND'),
          errorMessage: `Feature flag ${flagKey} does not exist`,
        };
      return {
        value: evaluation.enabled,
        variant: evaluation.enabled ? 'on' : 'off',
        reason: evaluation.reason as ResolutionReason,
        flagMetadata: evaluation.bucket === null ? {} : { bucket: evaluation.bucket },
      };
    } catch (error) {
      return {
        value: defaultValue,
        reason: 'ERROR',
        errorCode: errorCode('GENERAL'),
        errorMessage: error instanceof Error ? error.message : String(error),
      };
    }
  }

  resolveStringEvaluation(_flagKey: string, defaultValue: string): Promise<ResolutionDetails<string>> {
    return Promise.resolve(mismatch(defaultValue));
  }

  resolveNumberEvaluation(_flagKey: string, defaultValue: number): Promise<ResolutionDetails<number>> {
    return Promise.resolve(mismatch(defaultValue));
  }

  resolveObjectEvaluation<T extends JsonValue>(
    _flagKey: string,
    defaultValue: T,
  ): Promise<ResolutionDetails<T>> {
    return Promise.resolve(mismatch(defaultValue));
  }
}

function mismatch<T>(defaultValue: T): ResolutionDetails<T> {
  return {
    value: defaultValue,
    reason: 'ERROR',
    errorCode: errorCode('TYPE_MISMATCH'),
    errorMessage: 'These flags are booleans',
  };
}
