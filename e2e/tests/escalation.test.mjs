// An escalation in a browser: a no-access visit on a child on a child protection plan is
// waiting on the team manager, who acknowledges it with a note and resolves it with the
// action taken; the child's record shows it resolved.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, withPage, signIn, signOut, heading, banner, makeReferral, decideAndAllocate, SEED } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a manager acknowledges and resolves an escalation waiting on them', async () => {
  await withPage(browser, 'escalation', async (page) => {
    await signIn(page, SEED.tm);
    const referral = await makeReferral(page, { given: 'Leo', family: 'Marsh', dob: '2019-09-12' });
    const record = await decideAndAllocate(page, referral, 'Leo Marsh', SEED.swName);

    // A child protection plan, from the record's statutory steps.
    await page.getByRole('link', { name: 'Start a plan' }).click();
    await heading(page, 'Start a plan for Leo Marsh');
    await page.getByLabel('Child protection plan', { exact: true }).check();
    await page.getByLabel('Neglect', { exact: true }).check();
    await page.getByRole('button', { name: 'Start plan' }).click();
    await banner(page, 'Plan started');

    // A visit that finds no one in.
    await page.getByRole('link', { name: 'Record a visit' }).click();
    await page.getByLabel('No access', { exact: true }).check();
    await page.getByLabel('What happened (optional)').fill('No answer; curtains drawn');
    await page.getByRole('button', { name: 'Record visit' }).click();
    await banner(page, 'Visit recorded');

    // It is waiting on the team manager, counted in the navigation.
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: /^Escalations/ }).click();
    await heading(page, 'Escalations waiting on me');
    const row = page.getByRole('row').filter({ hasText: 'Leo Marsh' });
    assert.equal(await row.count(), 1, 'one escalation about Leo');
    assert.match(await row.innerText(), /Open/);
    await row.getByRole('link', { name: /Child not seen/ }).click();
    await heading(page, 'Child not seen: Leo Marsh');

    await page.getByLabel('What you are doing about it (optional)').fill('Calling the school and the health visitor now');
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await banner(page, 'Escalation acknowledged');
    assert.match(await page.locator('.timeline').innerText(), /Acknowledged by Tara Manager/);

    await page.getByLabel('Action taken').fill('Seen at school by the deputy head; home visit tomorrow with police');
    await page.getByRole('button', { name: 'Resolve' }).click();
    await banner(page, 'Escalation resolved');
    const history = await page.locator('.timeline').innerText();
    assert.match(history, /Resolved by Tara Manager/);
    assert.match(history, /Seen at school by the deputy head/);

    // The record shows it resolved; nothing is waiting any more.
    await page.goto(record);
    const escalations = page.getByRole('row').filter({ hasText: 'Child not seen' });
    assert.match(await escalations.innerText(), /Resolved/);
    await page.goto('/escalations');
    assert.ok((await page.locator('main').innerText()).includes('Nothing is waiting on you.'));
    await signOut(page);
  });
});
