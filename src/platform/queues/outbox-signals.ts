import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';

/**
 * Signals of the outbox relay within one process: a consumer that runs in this process (the event
 * pump) starts on what the relay just published instead of at its next poll.
 */
@Injectable()
export class OutboxSignals {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  claimed(): void {
    this.emitter.emit('claimed');
  }

  onClaimed(listener: () => void): () => void {
    this.emitter.on('claimed', listener);
    return () => this.emitter.off('claimed', listener);
  }
}
