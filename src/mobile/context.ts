// What the mobile service's routes share: the core services they call and the public Web Push key.
import type { EdgeCore } from '../core/edge-surface.ts';

export interface MobileContext {
  core: {
    push: EdgeCore['push'];
    enrollment: Pick<EdgeCore['enrollment'], 'activateDevice'>;
  };
  /** base64url VAPID public key when Web Push is on; the app subscribes with it. */
  vapidPublicKey: string | undefined;
}
