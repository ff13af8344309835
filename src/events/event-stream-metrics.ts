import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { Metrics } from '../platform/metrics/metrics';
import { StreamHub } from './stream-hub.service';

/**
 * The event streams of this API process, read from the hub at scrape time: how many are open,
 * the events sent on them and the streams dropped for not keeping up (both since start).
 */
@Injectable()
export class EventStreamMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: Metrics,
    private readonly hub: StreamHub,
  ) {}

  onModuleInit(): void {
    const registers = [this.metrics.registry];
    const hub = this.hub;
    new Gauge({
      name: 'event_streams_open',
      help: 'Event streams (GET /api/v1/events) this process holds open.',
      registers,
      collect() {
        this.set(hub.open);
      },
    });
    new Counter({
      name: 'event_stream_events_sent_total',
      help: 'Events sent on event streams (live and read back on resume), since the process started.',
      registers,
      collect() {
        this.reset();
        this.inc(hub.eventsSent);
      },
    });
    new Counter({
      name: 'event_stream_slow_dropped_total',
      help: 'Event streams closed because the client could not keep up, since the process started.',
      registers,
      collect() {
        this.reset();
        this.inc(hub.droppedSlow);
      },
    });
  }
}
