// What the mobile service's routes share: the core services they call and the public Web Push key.
import type { Core } from '../core/create-core.ts';

export interface MobileContext {
  core: {
    push: Core['push'];
    enrollment: Pick<Core['enrollment'], 'activateDevice'>;
  };
  /** base64url VAPID public key when Web Push is on; the app subscribes with it. */
  vapidPublicKey: string | undefined;
}
