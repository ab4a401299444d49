// The last guard of "never two acting": every call that changes replicas (create, start, stop,
// remove) or their networks (prune) is refused unless this controller leads at that moment. The controller already skips
// acting when it follows; this catches what was in flight when leadership ended (a drain, a pass).
// A request already sent cannot be fenced (the Docker API has no fencing tokens).
import type { Leadership } from '../core/leadership.js';
import { NotLeaderError } from '../errors.js';
import type { ContainerRuntime } from './runtime.js';

export function fencedRuntime(runtime: ContainerRuntime, leadership: Pick<Leadership, 'isLeader'>): ContainerRuntime {
  const guard = (action: string) => {
    if (!leadership.isLeader()) throw new NotLeaderError(action);
  };
  return {
    ping: (options) => runtime.ping(options),
    engine: (options) => runtime.engine(options),
    list: (scope, options) => runtime.list(scope, options),
    inspect: (id, options) => runtime.inspect(id, options),
    hasImage: (image, options) => runtime.hasImage(image, options),
    pullImage: (image, options) => runtime.pullImage(image, options),
    create: async (request, options) => {
      guard(`create of ${request.app} slot ${request.slot}`);
      return runtime.create(request, options);
    },
    pruneNetworks: async (scope, options) => {
      guard(`network prune of ${scope.app}`);
      return runtime.pruneNetworks(scope, options);
    },
    start: async (id, options) => {
      guard(`start of ${id}`);
      return runtime.start(id, options);
    },
    stop: async (id, timeoutSeconds, options) => {
      guard(`stop of ${id}`);
      return runtime.stop(id, timeoutSeconds, options);
    },
    remove: async (id, options) => {
      guard(`remove of ${id}`);
      return runtime.remove(id, options);
    },
    watch: (scope, handlers) => runtime.watch(scope, handlers),
    logs: (replica, query, options) => runtime.logs(replica, query, options),
    usage: (targets) => runtime.usage(targets),
    forgetUsage: (id) => runtime.forgetUsage(id),
    usageReader: () => runtime.usageReader(),
    close: () => runtime.close(),
  };
}
