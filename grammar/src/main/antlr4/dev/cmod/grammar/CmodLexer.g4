// Lexer for the .cmod language (see docs/language.md).
// Line breaks are emitted as NL tokens; the compiler's StatementBreaks filter keeps only the ones
// that end a statement (Go-style), so the parser sees NL where a statement or item really ends.
lexer grammar CmodLexer;

IMPORT     : 'import';
CONST      : 'const';
MODULE     : 'module';
MODEL      : 'model';
PARAM      : 'param';
LET        : 'let';
RETURN     : 'return';
IF         : 'if';
THEN       : 'then';
ELSE       : 'else';
REPEAT     : 'repeat';
INPUT      : 'input';
OUTPUT     : 'output';
WHERE      : 'where';
WITH       : 'with';
ON         : 'on';
FROM       : 'from';
TO         : 'to';
BY         : 'by';
ROUTE      : 'route';
AS         : 'as';
WEIGHTS    : 'weights';
ONNX       : 'onnx';
COMPUTE    : 'compute';
BUDGET     : 'budget';
CONSTRAINT : 'constraint';
ALIGN      : 'align';
CONDITION  : 'condition';
VIA        : 'via';
FROZEN     : 'frozen';
TRAINABLE  : 'trainable';
VOCAB      : 'vocab';
EXACT      : 'exact';
STRICT     : 'strict';
TRUE       : 'true';
FALSE      : 'false';
NONE       : 'none';

PIPE     : '|>';
ARROW    : '->';
ELLIPSIS : '...';
LE       : '<=';
GE       : '>=';
EQEQ     : '==';
NEQ      : '!=';
LT       : '<';
GT       : '>';
ASSIGN   : '=';
PLUS     : '+';
MINUS    : '-';
STAR     : '*';
SLASH    : '/';
PERCENT  : '%';
AT       : '@';
LPAREN   : '(';
RPAREN   : ')';
LBRACK   : '[';
RBRACK   : ']';
LBRACE   : '{';
RBRACE   : '}';
COMMA    : ',';
COLON    : ':';
SEMI     : ';';
DOT      : '.';
UNDERSCORE : '_';

FLOAT
  : DIGITS '.' DIGITS EXPONENT?
  | DIGITS EXPONENT
  ;
// Integer literals may carry a magnitude suffix: 40M, 3G, 512K (decimal: K=1e3, M=1e6, G=1e9, T=1e12).
INT      : DIGITS [KMGT]?;
STRING   : '"' (~["\\\r\n] | '\\' .)* '"';
IDENT    : [a-zA-Z_] [a-zA-Z_0-9]*;

NL            : ('\r'? '\n' | '\r');
WS            : [ \t\f]+ -> channel(HIDDEN);
LINE_COMMENT  : '//' ~[\r\n]* -> channel(HIDDEN);
BLOCK_COMMENT : '/*' .*? '*/' -> channel(HIDDEN);
UNTERMINATED_COMMENT : '/*' ( ~'*' | '*'+ ~[*/] )* '*'* EOF;
UNTERMINATED_STRING  : '"' (~["\\\r\n] | '\\' .)*;
ERROR_CHAR    : .;

fragment DIGITS   : [0-9] ('_'? [0-9])*;
fragment EXPONENT : [eE] [+-]? [0-9]+;
