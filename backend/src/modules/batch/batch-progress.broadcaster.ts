import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Clock } from '../shared/clock';
import { BatchEventRelay } from './batch-event-relay';
import type { BatchCompleteEvent, BatchProgressEvent } from './batch-socket.events';
import { BatchEvent, BatchEventPayload } from './batch.events';
import { BatchGateway } from './batch.gateway';
import { BATCH_OPTIONS, BATCH_SETTINGS, type BatchModuleOptions, type BatchSettings } from './batch.options';
import { ProgressCoalescer, ProgressRate } from './progress-coalescer';

/**
 * Turns the relayed batch events into what watchers receive: coalesced per batch
 * (`ProgressCoalescer`), as wire events, to this instance's sockets (`BatchGateway`)
 * and to the host's own delivery when it gave one (`BatchModuleOptions.progress`).
 */
@Injectable()
export class BatchProgressBroadcaster implements OnModuleDestroy {
  private readonly coalescer: ProgressCoalescer;

  constructor(
    private readonly gateway: BatchGateway,
    relay: BatchEventRelay,
    clock: Clock,
    @Inject(BATCH_SETTINGS) settings: BatchSettings,
    @Inject(BATCH_OPTIONS) private readonly options: BatchModuleOptions,
  ) {
    this.coalescer = new ProgressCoalescer(
      settings.progressIntervalMs,
      () => clock.now(),
      (fn, ms) => {
        const timer = setTimeout(fn, ms);
        return () => clearTimeout(timer);
      },
      {
        progress: (event, seq, rate) => this.deliver(event, toWire(event, seq, rate), 'progress'),
        complete: (event, seq, rate) =>
          this.deliver(
            event,
            { ...toWire(event, seq, rate), stage: 'finished', finishedAt: event.batch.finishedAt },
            'complete',
          ),
      },
    );
    relay.listen((message) => {
      if (message.kind === BatchEvent.ItemProgress) {
        // Already coalesced per item where it was produced.
        this.gateway.emitItemProgress(message.event);
        this.options.progress?.deliverItem?.(message.event.userId, message.event);
      } else if (message.kind === BatchEvent.Finished) this.coalescer.onFinished(message.event);
      else this.coalescer.onProgress(message.event);
    });
  }

  onModuleDestroy(): void {
    this.coalescer.dispose();
  }

  private deliver(
    event: BatchEventPayload,
    wire: BatchProgressEvent | BatchCompleteEvent,
    kind: 'progress' | 'complete',
  ): void {
    this.gateway.emitToWatchers(
      event.batch.userId,
      event.batch.id,
      kind === 'progress' ? 'batch-progress' : 'batch-complete',
      wire,
    );
    this.options.progress?.deliver(event.batch.userId, wire, kind);
  }
}

function toWire(event: BatchEventPayload, seq: number, rate: ProgressRate): BatchProgressEvent {
  const b = event.batch;
  return {
    batchId: b.id,
    userId: b.userId,
    seq,
    status: b.status,
    stage: 'processing',
    percentage: b.percentage,
    itemCount: b.itemCount,
    processedCount: b.processedCount,
    succeededCount: b.succeededCount,
    failedCount: b.failedCount,
    cancelledCount: b.cancelledCount,
    message: `Processed ${b.processedCount} of ${b.itemCount} items`,
    correlationId: b.correlationId,
    details: rate,
    at: new Date(event.committedAt).toISOString(),
  };
}
