import { Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { stopTracing } from './sdk';

/** Flushes the spans still buffered when the application closes (nothing when tracing is off). */
@Injectable()
class TracingShutdown implements OnApplicationShutdown {
  async onApplicationShutdown(): Promise<void> {
    await stopTracing();
  }
}

@Module({ providers: [TracingShutdown] })
export class TracingModule {}
