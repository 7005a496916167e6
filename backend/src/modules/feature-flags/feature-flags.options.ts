import type { HostPorts } from '../shared/module-options';

/** How a host wires FeatureFlagsModule: its ports, and how long evaluations may be cached. */
export interface FeatureFlagsModuleOptions extends HostPorts {
  /** How long a process serves flags from its cache (default 5,000 ms); changes made here are seen at once. */
  cacheMs?: number;
}

export const FEATURE_FLAGS_OPTIONS = Symbol('FEATURE_FLAGS_OPTIONS');
