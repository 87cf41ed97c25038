package looplab.dsl

/**
 * An error whose message is meant for the user: it says what is wrong and where, so it is shown as
 * it is, without a stack trace (the CLI prints it and exits with status 2).
 */
public interface UserFacingError
