import { LANE_IDS } from '@transport-lab/shared';
import { test } from '../fixtures/test.ts';
import { expectWireAgreement } from '../fixtures/wireAgreement.ts';

for (const lane of LANE_IDS) {
  test(`${lane}: the page's requests and bytes agree with Chromium's network log within 2 %`, async ({
    racePage,
  }) => {
    await expectWireAgreement(racePage, lane);
  });
}
