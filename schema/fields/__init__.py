"""The root fields of each domain (on Query, Mutation, Subscription and Viewer): GraphQL
arguments in, GraphQL types out. The work, and every rule about who may do what, is the
resolvers' (resolvers/<domain>/); these functions only translate to and from them."""
