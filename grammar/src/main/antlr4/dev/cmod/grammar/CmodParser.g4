// Parser for the .cmod language. No actions; every alternative that the AST builder must tell
// apart is labelled. Statement ends are NL (kept by the compiler's StatementBreaks filter) or ';'.
parser grammar CmodParser;

options { tokenVocab = CmodLexer; }

file
  : sep? (decl (sep decl)*)? sep? EOF
  ;

decl
  : importDecl
  | constDecl
  | moduleDecl
  | modelDecl
  ;

importDecl
  : IMPORT qualifiedName (DOT LBRACE ident (COMMA ident)* COMMA? RBRACE)?   # importStd
  | IMPORT STRING                                                           # importFile
  | IMPORT ONNX STRING AS ident onnxSignature?                              # importOnnx
  | IMPORT WEIGHTS STRING AS ident                                          # importWeights
  ;

// the inputs (every one, in order) and the values read (graph outputs or intermediate values)
onnxSignature
  : COLON ins=sigList (ARROW outs=sigList)?
  | ARROW outs=sigList
  ;

sigList
  : LPAREN (sigItem (COMMA sigItem)* COMMA?)? RPAREN
  ;

sigItem
  : (ident | STRING) (COLON type)?
  ;

qualifiedName
  : ident (DOT pathPart)*
  ;

// library names may be words that are keywords elsewhere (std.route)
pathPart
  : ident | ROUTE | REPEAT | FROZEN | TRAINABLE | MODEL | MODULE | PARAM | WITH | IF | THEN | ELSE | LET
  ;

constDecl
  : CONST ident (COLON type)? ASSIGN expr
  ;

moduleDecl
  : MODULE ident hyper=paramList args=paramList? (ARROW resultType)? block
  ;

paramList
  : LPAREN (paramDecl (COMMA paramDecl)* COMMA?)? RPAREN
  ;

paramDecl
  : ident COLON type (ASSIGN expr)?
  ;

resultType
  : type                                                    # singleResult
  | LPAREN ident COLON type (COMMA ident COLON type)* RPAREN # tupleResult
  ;

type
  : ident LBRACK (dim (COMMA dim)*)? RBRACK (VOCAB expr)?   # tensorType
  | typeName                                                # namedType
  ;

typeName
  : ident | MODULE
  ;

dim
  : ELLIPSIS      # anyRankDim
  | UNDERSCORE    # unknownDim
  | expr          # exprDim
  ;

block
  : LBRACE sep? (stmt (sep stmt)*)? sep? RBRACE
  ;

stmt
  : PARAM ident COLON type (ASSIGN init=expr (IF cond=expr)?)?   # paramStmt
  | LET ident (COLON type)? ASSIGN expr                          # letStmt
  | LET LPAREN ident (COMMA ident)+ RPAREN ASSIGN expr           # letTupleStmt
  | RETURN expr                                                  # returnStmt
  | expr                                                         # exprStmt
  ;

modelDecl
  : MODEL ident LBRACE sep? (modelItem (sep modelItem)*)? sep? RBRACE
  ;

modelItem
  : COMPUTE ident                                                     # computeItem
  | BUDGET STRICT? LBRACE budgetEntry (COMMA budgetEntry)* COMMA? RBRACE  # budgetItem
  | INPUT ident COLON EXACT? type (FROM composition)? (WHERE expr (COMMA expr)*)?   # inputItem
  | OUTPUT ident (COLON EXACT? type (TO composition)? (ASSIGN expr)? | ASSIGN expr)  # outputItem
  | CONSTRAINT expr                                                   # constraintItem
  | CONSTRAINT ident ASSIGN expr                                      # namedConstraintItem
  | ALIGN ident (COMMA ident)+ ON ident                               # alignItem
  | WEIGHTS STRING                                                    # weightsItem
  | CONDITION ident ON ident VIA composition                          # conditionItem
  | ident ASSIGN expr                                                 # assignItem
  | stmt                                                              # stmtItem
  ;

budgetEntry
  : ident (LE | LT) expr
  ;

expr
  : primary                                               # primaryExpr
  | expr DOT ident                                        # memberExpr
  | expr DOT INT                                          # tupleIndexExpr
  | expr LPAREN (arg (COMMA arg)* COMMA?)? RPAREN          # callExpr
  | MINUS expr                                            # negExpr
  | expr op=(STAR | SLASH | PERCENT | AT) expr            # mulExpr
  | expr op=(PLUS | MINUS) expr                           # addExpr
  | expr op=(LT | LE | GT | GE | EQEQ | NEQ) expr         # compareExpr
  | expr WITH composition (ON targets+=primary (COMMA targets+=primary)*)? (FROM from=expr)?   # withExpr
  | expr PIPE expr                                        # pipeExpr
  | FROZEN expr                                           # frozenExpr
  | TRAINABLE expr                                        # trainableExpr
  | REPEAT LPAREN expr RPAREN expr                        # repeatExpr
  | ROUTE expr TO expr BY expr                            # routeExpr
  | IF expr THEN expr ELSE expr                           # ifExpr
  ;

composition
  : ident (LPAREN (arg (COMMA arg)* COMMA?)? RPAREN)?
  ;

arg
  : ident ASSIGN expr     # namedArg
  | expr                  # positionalArg
  ;

primary
  : INT                                            # intLit
  | FLOAT                                          # floatLit
  | STRING                                         # stringLit
  | (TRUE | FALSE)                                 # boolLit
  | NONE                                           # noneLit
  | ident                                          # nameRef
  | LPAREN expr RPAREN                             # parenExpr
  | LBRACK (expr (COMMA expr)* COMMA?)? RBRACK     # listExpr
  ;

// Most keywords are soft: they stay usable as names where no keyword is expected.
ident
  : IDENT | ON | FROM | TO | BY | AS | WEIGHTS | ONNX | COMPUTE | BUDGET | ALIGN | CONDITION
  | VIA | VOCAB | INPUT | OUTPUT | CONSTRAINT | WHERE | EXACT | STRICT
  ;

sep
  : (NL | SEMI)+
  ;
