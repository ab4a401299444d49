import { describe, expect, it } from 'vitest';
import { needsAttention } from '../../../src/store/conditions.js';
import type { Condition } from '../../../src/store/status-model.js';

const c = (type: string, status: Condition['status'], reason = type): Condition => ({ type, status, reason, message: '', lastTransitionTime: '' });

describe('needsAttention (what the dashboard marks red)', () => {
  it.each<[Condition, boolean]>([
    [c('Ready', 'True', 'ReplicasReady'), false],
    [c('Ready', 'False', 'ReplicasNotReady'), true],
    [c('Ready', 'Unknown'), true],
    [c('Progressing', 'True', 'ReplicasChanging'), false],
    [c('Progressing', 'False', 'RolloutHalted'), false],
    [c('RolloutFailed', 'True', 'ProgressDeadlineExceeded'), true],
    [c('ManifestInvalid', 'True'), true],
    [c('ScalingLimited', 'True', 'ScalingLimitedCpu'), true],
    [c('SourceFailed', 'True', 'FetchFailed'), true],
    [c('RouteConflict', 'True', 'HostPathClaimed'), true],
    [c('RouteConflict', 'True', 'HoldsContestedRoute'), false],
    [c('ImagePullFailed', 'False'), false],
  ])('%o -> %s', (condition, expected) => expect(needsAttention(condition)).toBe(expected));
});
