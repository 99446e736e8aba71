// Seeds a fresh safeguard through its JSON API, signed in as the administrator the CLI
// created: one team with a team manager, a social worker and a service manager, and the
// team's management line. Prints the logins as JSON for run.sh.
const [base, adminLogin, password] = process.argv.slice(2);

async function call(method, path, token, body) {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const { token } = await call('POST', '/auth/token', null, { login: adminLogin, password, name: 'e2e seed' });
const team = await call('POST', '/teams', token, { name: 'North Team' });
const staff = async (login, name, role, inTeam) =>
  call('POST', '/staff', token, { login, name, role, team: inTeam ? team.id : null, password });
const tm = await staff('tm.north', 'Tara Manager', 'team_manager', true);
const sw = await staff('sw.north', 'Sam Worker', 'social_worker', true);
const sm = await staff('sm.north', 'Simone Service', 'service_manager', false);
// A worker on 0.1 FTE: a cap of 1.5, so a second case takes them over it.
const pt = await call('POST', '/staff', token, {
  login: 'pt.north', name: 'Pat Parttime', role: 'social_worker', team: team.id, fte: 0.1, password,
});
const aud = await staff('aud.north', 'Ada Auditor', 'auditor', false);
await call('PUT', `/teams/${team.id}/leadership`, token, { team_manager: tm.id, service_manager: sm.id });
// A child already recorded, for the "who might this be?" test.
const tmToken = (await call('POST', '/auth/token', null, { login: tm.login, password, name: 'e2e seed' })).token;
const alfred = await call('POST', '/people', tmToken, {
  given_name: 'Alfred', family_name: 'Scott', dob: '2011-03-04', dob_precision: 'known', sex: 'male',
});
console.log(JSON.stringify({ alfredId: alfred.id, team: team.name, tm: tm.login, sw: sw.login, sm: sm.login, swName: sw.name, ptName: pt.name, aud: aud.login }));
