// A static check of compiled JavaScript against the preload rules: a portable module may hold no
// mutable state at module level, because Moddable runs its body once at build time and keeps the
// result in flash. Parsed with the TypeScript compiler (as JavaScript), so strings, comments and
// property names never count as code.
//
// What it reports:
// - top-level `let` / `var` (mutable module state, and live `export let` bindings);
// - the output of a TypeScript `enum` or `namespace` (a `var` filled in by an IIFE);
// - static class fields that can change: not `Object.freeze(...)`, and not a readonly primitive
//   (readonly is read from the `.d.ts` next to the file, as JavaScript no longer says it);
// - top-level object or array literals, and Maps and Sets, that are not frozen, deeply;
// - Node globals (Buffer, process, setImmediate, require, ...) and imports of Node built-ins.

import { builtinModules } from "node:module";
import ts from "typescript";

export interface Violation {
  file: string;
  line: number;
  rule: "let-var" | "enum" | "static-field" | "unfrozen-literal" | "node-global" | "node-import";
  message: string;
}

const nodeGlobals = new Set([
  "Buffer",
  "process",
  "setImmediate",
  "clearImmediate",
  "require",
  "global",
  "__dirname",
  "__filename",
  "exports",
  "module",
]);

const nodeBuiltins = new Set(builtinModules.filter((name) => !name.startsWith("_")));

const collections = new Set(["Map", "Set", "WeakMap", "WeakSet", "Object", "Array"]);

function unwrap(node: ts.Expression): ts.Expression {
  let at = node;
  while (ts.isParenthesizedExpression(at)) at = at.expression;
  return at;
}

/** `Object.freeze(x)`, returning x, or undefined. */
function frozenArgument(node: ts.Expression): ts.Expression | undefined {
  const at = unwrap(node);
  if (!ts.isCallExpression(at)) return undefined;
  const callee = at.expression;
  if (
    ts.isPropertyAccessExpression(callee) &&
    ts.isIdentifier(callee.expression) &&
    callee.expression.text === "Object" &&
    callee.name.text === "freeze" &&
    at.arguments.length >= 1
  )
    return at.arguments[0];
  return undefined;
}

function isMutableLiteral(node: ts.Expression): boolean {
  const at = unwrap(node);
  if (ts.isObjectLiteralExpression(at) || ts.isArrayLiteralExpression(at)) return true;
  return (
    ts.isNewExpression(at) && ts.isIdentifier(at.expression) && collections.has(at.expression.text)
  );
}

/**
 * Where inside `node` (a value held at module level) something mutable is created unfrozen: the
 * value itself, or any literal nested inside a frozen literal. Returns a description or null.
 */
function unfrozenPart(node: ts.Expression, path: string): string | null {
  const frozen = frozenArgument(node);
  const at = unwrap(frozen ?? node);
  if (frozen === undefined && isMutableLiteral(at)) return path;
  if (ts.isObjectLiteralExpression(at)) {
    for (const property of at.properties) {
      if (ts.isPropertyAssignment(property)) {
        const found = unfrozenPart(property.initializer, `${path}.${property.name.getText()}`);
        if (found) return found;
      }
    }
  } else if (ts.isArrayLiteralExpression(at)) {
    for (let i = 0; i < at.elements.length; i++) {
      const element = at.elements[i];
      if (ts.isSpreadElement(element) || ts.isOmittedExpression(element)) continue;
      const found = unfrozenPart(element, `${path}[${i}]`);
      if (found) return found;
    }
  }
  return null;
}

/** Whether evaluating `node` creates a new object (which a static field would then hold). */
function createsObject(node: ts.Expression): boolean {
  const at = unwrap(node);
  return (
    ts.isObjectLiteralExpression(at) ||
    ts.isArrayLiteralExpression(at) ||
    ts.isNewExpression(at) ||
    ts.isCallExpression(at) ||
    ts.isFunctionExpression(at) ||
    ts.isArrowFunction(at) ||
    ts.isClassExpression(at) ||
    ts.isRegularExpressionLiteral(at)
  );
}

/** Names of static members declared readonly, per class, from a declaration file. */
function readonlyStatics(declarations: string | undefined): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  if (declarations === undefined) return found;
  const source = ts.createSourceFile("x.d.ts", declarations, ts.ScriptTarget.Latest, true);
  const visit = (node: ts.Node): void => {
    if (ts.isClassDeclaration(node) && node.name) {
      const names = new Set<string>();
      for (const member of node.members) {
        const modifiers = (ts.canHaveModifiers(member) && ts.getModifiers(member)) || [];
        const isStatic = modifiers.some((m) => m.kind === ts.SyntaxKind.StaticKeyword);
        const isReadonly = modifiers.some((m) => m.kind === ts.SyntaxKind.ReadonlyKeyword);
        if (isStatic && isReadonly && member.name) names.add(member.name.getText(source));
      }
      found.set(node.name.text, names);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function hasModifier(node: ts.Node, kind: ts.SyntaxKind): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === kind);
}

/** Names written anywhere in the file as `X.#name = ...`, `X.#name++` and the like. */
function writtenPrivateNames(source: ts.SourceFile): Set<string> {
  const written = new Set<string>();
  const target = (node: ts.Expression): void => {
    const at = unwrap(node);
    if (ts.isPropertyAccessExpression(at) && ts.isPrivateIdentifier(at.name))
      written.add(at.name.text);
  };
  const visit = (node: ts.Node): void => {
    if (
      ts.isBinaryExpression(node) &&
      node.operatorToken.kind >= ts.SyntaxKind.FirstAssignment &&
      node.operatorToken.kind <= ts.SyntaxKind.LastAssignment
    )
      target(node.left);
    else if (
      (ts.isPrefixUnaryExpression(node) || ts.isPostfixUnaryExpression(node)) &&
      (node.operator === ts.SyntaxKind.PlusPlusToken ||
        node.operator === ts.SyntaxKind.MinusMinusToken)
    )
      target(node.operand);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return written;
}

/** Whether an identifier stands for a value here (not a property name, label or declaration). */
function isReference(node: ts.Identifier): boolean {
  const parent = node.parent;
  if (ts.isPropertyAccessExpression(parent) && parent.name === node) return false;
  if (
    (ts.isPropertyAssignment(parent) ||
      ts.isMethodDeclaration(parent) ||
      ts.isPropertyDeclaration(parent) ||
      ts.isGetAccessorDeclaration(parent) ||
      ts.isSetAccessorDeclaration(parent)) &&
    parent.name === node
  )
    return false;
  if (ts.isLabeledStatement(parent) || ts.isBreakOrContinueStatement(parent)) return false;
  if (ts.isExportSpecifier(parent) || ts.isImportSpecifier(parent)) return false;
  if (ts.isMetaProperty(parent)) return false;
  if (
    (ts.isVariableDeclaration(parent) ||
      ts.isParameter(parent) ||
      ts.isFunctionDeclaration(parent) ||
      ts.isFunctionExpression(parent) ||
      ts.isClassDeclaration(parent) ||
      ts.isClassExpression(parent) ||
      ts.isBindingElement(parent) ||
      ts.isImportClause(parent) ||
      ts.isNamespaceImport(parent)) &&
    parent.name === node
  )
    return false;
  return true;
}

/** Every name the file binds anywhere: a local with a Node global's name shadows it. */
function declaredNames(source: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && !isReference(node)) {
      const parent = node.parent;
      if (
        !ts.isPropertyAccessExpression(parent) &&
        !ts.isPropertyAssignment(parent) &&
        !ts.isMethodDeclaration(parent)
      )
        names.add(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return names;
}

/** The IIFE a TypeScript enum or namespace compiles to: `(function (E) {...})(E || (E = {}))`. */
function enumTarget(statement: ts.Statement): string | undefined {
  if (!ts.isExpressionStatement(statement)) return undefined;
  const call = unwrap(statement.expression);
  if (!ts.isCallExpression(call) || call.arguments.length !== 1) return undefined;
  if (!ts.isFunctionExpression(unwrap(call.expression))) return undefined;
  const argument = unwrap(call.arguments[0]);
  if (
    ts.isBinaryExpression(argument) &&
    argument.operatorToken.kind === ts.SyntaxKind.BarBarToken &&
    ts.isIdentifier(unwrap(argument.left))
  )
    return (unwrap(argument.left) as ts.Identifier).text;
  return undefined;
}

/**
 * Checks one compiled module. `declarations` is the text of its `.d.ts`, used to tell readonly
 * static fields from mutable ones; without it every unfrozen static field is reported.
 */
export function checkPreloadable(code: string, file: string, declarations?: string): Violation[] {
  const source = ts.createSourceFile(file, code, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const found: Violation[] = [];
  const report = (node: ts.Node, rule: Violation["rule"], message: string): void => {
    const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
    found.push({ file, line: line + 1, rule, message });
  };

  const enums = new Set<string>();
  for (const statement of source.statements) {
    const name = enumTarget(statement);
    if (name !== undefined) {
      enums.add(name);
      report(statement, "enum", `${name}: a TypeScript enum or namespace (use frozen constants)`);
    }
  }

  const exported = new Set<string>();
  for (const statement of source.statements) {
    if (
      ts.isExportDeclaration(statement) &&
      !statement.moduleSpecifier &&
      statement.exportClause &&
      ts.isNamedExports(statement.exportClause)
    )
      for (const element of statement.exportClause.elements)
        exported.add((element.propertyName ?? element.name).getText(source));
  }

  const readonly = readonlyStatics(declarations);
  const privateWrites = writtenPrivateNames(source);
  const checkClass = (node: ts.ClassDeclaration | ts.ClassExpression, className: string): void => {
    for (const member of node.members) {
      if (!ts.isPropertyDeclaration(member) || !hasModifier(member, ts.SyntaxKind.StaticKeyword))
        continue;
      const name = member.name.getText(source);
      const initializer = member.initializer;
      const where = `${className}.${name}`;
      if (initializer !== undefined && frozenArgument(initializer) !== undefined) {
        const part = unfrozenPart(initializer, where);
        if (part)
          report(member, "static-field", `${part}: not frozen inside a frozen static field`);
        continue;
      }
      // A value that creates no object and is never reassigned is a constant.
      const constant = initializer !== undefined && !createsObject(initializer);
      const isPrivate = ts.isPrivateIdentifier(member.name);
      const safe = isPrivate
        ? constant && !privateWrites.has(name)
        : constant && readonly.get(className)?.has(name) === true;
      if (!safe)
        report(
          member,
          "static-field",
          `${where}: a mutable static field (read-only after preload; keep state in instances)`,
        );
    }
  };

  for (const statement of source.statements) {
    const isExported = hasModifier(statement, ts.SyntaxKind.ExportKeyword);
    if (ts.isVariableStatement(statement)) {
      const flags = statement.declarationList.flags;
      const isConst = (flags & ts.NodeFlags.Const) !== 0;
      for (const declaration of statement.declarationList.declarations) {
        const name = declaration.name.getText(source);
        if (!isConst) {
          if (!enums.has(name))
            report(
              declaration,
              "let-var",
              `${name}: module-level ${flags & ts.NodeFlags.Let ? "let" : "var"} (mutable module state)`,
            );
          continue;
        }
        if (declaration.initializer === undefined) continue;
        const init = unwrap(declaration.initializer);
        if (ts.isClassExpression(init)) checkClass(init, name);
        const part = unfrozenPart(declaration.initializer, name);
        if (part)
          report(
            declaration,
            "unfrozen-literal",
            `${part}: ${isExported || exported.has(name) ? "exported " : ""}module-level object not frozen (Object.freeze it, deeply)`,
          );
      }
    } else if (ts.isClassDeclaration(statement)) {
      checkClass(statement, statement.name?.text ?? "default");
    } else if (ts.isExportAssignment(statement)) {
      const part = unfrozenPart(statement.expression, "default");
      if (part) report(statement, "unfrozen-literal", `${part}: exported object not frozen`);
    } else if (
      (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) &&
      statement.moduleSpecifier &&
      ts.isStringLiteral(statement.moduleSpecifier)
    ) {
      const specifier = statement.moduleSpecifier.text;
      if (specifier.startsWith("node:") || nodeBuiltins.has(specifier.split("/")[0]))
        report(statement, "node-import", `imports the Node built-in "${specifier}"`);
    }
  }

  const declared = declaredNames(source);
  const visit = (node: ts.Node): void => {
    if (
      ts.isIdentifier(node) &&
      nodeGlobals.has(node.text) &&
      !declared.has(node.text) &&
      isReference(node)
    )
      report(node, "node-global", `uses the Node global ${node.text}`);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}
