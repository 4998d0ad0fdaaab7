// Validates glb files with the Khronos glTF validator (npm gltf-validator); prints one JSON
// line per file and exits 1 when any has errors. Usage: node gltf-validate.js FILE...
const fs = require('fs');
const validator = require('gltf-validator');
(async () => {
  let errors = 0;
  for (const file of process.argv.slice(2)) {
    const report = await validator.validateBytes(new Uint8Array(fs.readFileSync(file)), { maxIssues: 100 });
    const issues = report.issues;
    const serious = issues.messages.filter((m) => m.severity <= 1).map((m) => `${m.code} ${m.pointer || ''} ${m.message}`);
    console.log(JSON.stringify({ file, errors: issues.numErrors, warnings: issues.numWarnings, serious }));
    errors += issues.numErrors;
  }
  process.exit(errors ? 1 : 0);
})().catch((e) => { console.error(e); process.exit(2); });
