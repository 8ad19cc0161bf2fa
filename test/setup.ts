import { Testing } from 'cdktf';

// Adds the cdktf matchers (toHaveResource, toHaveResourceWithProperties, …) to expect.
Testing.setupJest();
