import { Global, Module, type DynamicModule } from '@nestjs/common';
import { Metrics, type MetricsProcess } from './metrics';
import { PlatformMetrics } from './platform-metrics';

/** The application's metrics registry (global), with the platform's own gauges. */
@Global()
@Module({})
export class MetricsModule {
  static forRoot(process: MetricsProcess): DynamicModule {
    return {
      module: MetricsModule,
      providers: [{ provide: Metrics, useFactory: () => new Metrics(process) }, PlatformMetrics],
      exports: [Metrics],
    };
  }
}
