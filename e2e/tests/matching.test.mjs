// "Who might this be?" at intake: a social worker refers "Alfie Scot, 4/3/2011" and is
// offered the existing "Alfred Scott, 2011-03-04" with the evidence, picks him, and the
// referral lands on his record.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, withPage, signIn, heading, banner, SEED } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a referral for Alfie Scot offers Alfred Scott with the evidence', async () => {
  await withPage(browser, 'matching', async (page) => {
    await signIn(page, SEED.sw);
    await page.goto('/referrals/new');
    await heading(page, 'Make a referral');
    await page.getByLabel('Team receiving the referral').selectOption({ label: SEED.team });
    await page.getByLabel('Relative or carer', { exact: true }).check();
    await page.getByLabel('What is the concern?').fill('His aunt says he is often left alone overnight');
    await page.getByLabel('Neglect', { exact: true }).check();
    await page.getByLabel('Given name').fill('Alfie');
    await page.getByLabel('Family name').fill('Scot');
    await page.getByLabel('Date of birth').fill('4/3/2011');
    await page.getByLabel('Known', { exact: true }).check();
    await page.getByRole('button', { name: 'Send referral' }).click();

    // Nothing is recorded yet: the form asks, with the candidates and their evidence.
    await heading(page, 'Make a referral');
    const choice = page.locator('.possible-matches');
    await choice.getByText('Is this a child already recorded?').waitFor();
    const offered = choice.getByLabel(/Alfred Scott, 2011-03-04/);
    assert.equal(await offered.count(), 1, 'Alfred Scott is offered');
    const evidence = await choice.innerText();
    assert.match(evidence, /first name: nickname \(Alfie ↔ Alfred\)/);
    assert.match(evidence, /surname: similar spelling/);
    assert.match(evidence, /% likely the same person/);

    await offered.check();
    await page.getByRole('button', { name: 'Send referral' }).click();
    await page.waitForURL(/\/referrals\/\d+\?done=referral/);
    await banner(page, 'Referral recorded');
    assert.match(await page.locator('main').innerText(), /Alfred Scott/);

    // It is on Alfred's record.
    await page.goto(`/people/${SEED.alfredId}`);
    await heading(page, /Alfred Scott/);
    assert.match(await page.locator('#chronology').innerText(), /Referral/i);
  });
});
