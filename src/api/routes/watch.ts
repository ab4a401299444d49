// GET /watch: the live-change stream the dashboard listens to (see ../change-feed.ts).
import type { ChangeFeed } from '../change-feed.js';
import { HttpError } from '../http-error.js';
import type { Router } from '../router.js';

export function addWatchRoute(router: Router, feed: ChangeFeed): void {
  router.get('/watch', ({ res }) => {
    if (!feed.hasRoom()) throw new HttpError(503, 'TooManyWatchers', 'too many open /watch streams; try again later');
    feed.open(res);
    return undefined;
  });
}
