import { Global, Module, type DynamicModule } from '@nestjs/common';
import { Metrics, type MetricsProcess } from './metrics';
import { APP_CONFIG } from '../../config/config.module';
import type { AppConfig } from '../../config/app-config';
import { PlatformMetrics } from './platform-metrics';

/** The application's metrics registry (global), with the platform's own gauges. */
@Global()
@Module({})
export class MetricsModule {
  static forRoot(process: MetricsProcess): DynamicModule {
    return {
      module: MetricsModule,
      providers: [
        {
          provide: Metrics,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => new Metrics(process, config.metricsEnabled),
        },
        PlatformMetrics,
      ],
      exports: [Metrics],
    };
  }
}
