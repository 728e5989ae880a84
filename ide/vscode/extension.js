// Thin client for the cmod language server (ide/lsp). No build step: plain CommonJS.
// Highlighting works without this file; diagnostics, hover and completion need
// `npm install` here (for vscode-languageclient) and the server command on the PATH
// or in the setting cmod.server.command.
'use strict';

const vscode = require('vscode');

let client;

function activate(context) {
  let lc;
  try {
    lc = require('vscode-languageclient/node');
  } catch (e) {
    vscode.window.showInformationMessage(
      'cmod: vscode-languageclient is not installed (run npm install in the extension folder); syntax highlighting only.');
    return;
  }
  const config = vscode.workspace.getConfiguration('cmod');
  const command = config.get('server.command', 'cmod-lsp');
  if (!command) {
    return;
  }
  const args = config.get('server.args', []);
  const serverOptions = {
    run: { command, args, transport: lc.TransportKind.stdio },
    debug: { command, args, transport: lc.TransportKind.stdio }
  };
  const clientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'cmod' },
      { scheme: 'untitled', language: 'cmod' }
    ]
  };
  client = new lc.LanguageClient('cmod', 'cmod language server', serverOptions, clientOptions);
  client.start().catch((err) => {
    vscode.window.showWarningMessage(`cmod: cannot start the language server '${command}': ${err && err.message ? err.message : err}`);
  });
  context.subscriptions.push({ dispose: () => deactivate() });
}

function deactivate() {
  if (!client) {
    return undefined;
  }
  const c = client;
  client = undefined;
  return c.stop();
}

module.exports = { activate, deactivate };
